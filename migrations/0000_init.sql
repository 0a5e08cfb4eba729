CREATE TABLE `citations` (
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`position` integer NOT NULL,
	`source_id` text NOT NULL,
	PRIMARY KEY(`entity_type`, `entity_id`, `position`),
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `citations_source` ON `citations` (`source_id`);--> statement-breakpoint
CREATE TABLE `condition_aliases` (
	`condition_id` text NOT NULL,
	`position` integer NOT NULL,
	`alias` text NOT NULL,
	PRIMARY KEY(`condition_id`, `position`),
	FOREIGN KEY (`condition_id`) REFERENCES `conditions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `condition_codes` (
	`condition_id` text NOT NULL,
	`position` integer NOT NULL,
	`system` text NOT NULL,
	`code` text NOT NULL,
	`display` text,
	`match` text NOT NULL,
	`note` text,
	`confidence` text NOT NULL,
	PRIMARY KEY(`condition_id`, `system`, `code`),
	FOREIGN KEY (`condition_id`) REFERENCES `conditions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `condition_codes_lookup` ON `condition_codes` (`system`,`code`);--> statement-breakpoint
CREATE TABLE `conditions` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`summary` text NOT NULL,
	`version` integer NOT NULL,
	`last_reviewed` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `related_conditions` (
	`condition_id` text NOT NULL,
	`position` integer NOT NULL,
	`related_id` text NOT NULL,
	`name` text NOT NULL,
	`relation` text NOT NULL,
	`text` text NOT NULL,
	PRIMARY KEY(`condition_id`, `position`),
	FOREIGN KEY (`condition_id`) REFERENCES `conditions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `sources` (
	`id` text PRIMARY KEY NOT NULL,
	`defined_in` text NOT NULL,
	`position` integer NOT NULL,
	`kind` text NOT NULL,
	`year` integer,
	`title` text,
	`label` text,
	`authors` text NOT NULL,
	`journal` text,
	`volume` text,
	`pages` text,
	`doi` text,
	`pmid` text,
	`pmcid` text,
	`url` text,
	`cited_as` text,
	`attribution` text NOT NULL,
	`licence` text,
	`note` text,
	FOREIGN KEY (`defined_in`) REFERENCES `conditions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `statements` (
	`id` text PRIMARY KEY NOT NULL,
	`condition_id` text NOT NULL,
	`section` text NOT NULL,
	`position` integer NOT NULL,
	`name` text NOT NULL,
	`text` text NOT NULL,
	`confidence` text NOT NULL,
	`frequency` text,
	`related_condition` text,
	`category` text,
	`purpose` text,
	`risks` text,
	`route` text,
	`goal` text,
	`regulatory_status` text,
	`regulatory_note` text,
	FOREIGN KEY (`condition_id`) REFERENCES `conditions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `statements_order` ON `statements` (`condition_id`,`section`,`position`);--> statement-breakpoint
CREATE TABLE `statistics` (
	`id` text PRIMARY KEY NOT NULL,
	`condition_id` text NOT NULL,
	`position` integer NOT NULL,
	`measure` text NOT NULL,
	`value` real,
	`low` real,
	`high` real,
	`unit` text NOT NULL,
	`comparator` text,
	`population` text NOT NULL,
	`outcome` text,
	`timepoint` text,
	`timepoint_months` real,
	`sample_size` integer,
	`treatment_id` text,
	`text` text NOT NULL,
	`confidence` text NOT NULL,
	FOREIGN KEY (`condition_id`) REFERENCES `conditions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`treatment_id`) REFERENCES `statements`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `statistics_measure` ON `statistics` (`measure`);--> statement-breakpoint
CREATE INDEX `statistics_condition` ON `statistics` (`condition_id`,`position`);--> statement-breakpoint
CREATE TABLE `treatment_codes` (
	`treatment_id` text NOT NULL,
	`position` integer NOT NULL,
	`system` text NOT NULL,
	`code` text NOT NULL,
	`display` text,
	PRIMARY KEY(`treatment_id`, `position`),
	FOREIGN KEY (`treatment_id`) REFERENCES `statements`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `treatment_codes_lookup` ON `treatment_codes` (`system`,`code`);