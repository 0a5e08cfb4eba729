-- The build's create revisions keep their contents here, compressed per condition, instead of a
-- JSON copy per row (db/schema.ts, revisions and built_contents). Existing rows keep theirs.
CREATE TABLE `built_contents` (
	`condition_id` text PRIMARY KEY NOT NULL,
	`body` blob NOT NULL
);
--> statement-breakpoint
-- citations as a WITHOUT ROWID table on its primary key: the rows are stored once, in the key's
-- b-tree, instead of in a rowid table plus an index holding every column again (drizzle-kit cannot
-- express WITHOUT ROWID; the columns, key, foreign key and index are the ones db/schema.ts declares).
CREATE TABLE `citations_next` (
	`entity_type` text NOT NULL,
	`entity_id` text NOT NULL,
	`position` integer NOT NULL,
	`source_id` text NOT NULL,
	`locator` text,
	PRIMARY KEY(`entity_type`, `entity_id`, `position`),
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE no action
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `citations_next` (`entity_type`, `entity_id`, `position`, `source_id`, `locator`)
SELECT `entity_type`, `entity_id`, `position`, `source_id`, `locator` FROM `citations`;
--> statement-breakpoint
DROP TABLE `citations`;
--> statement-breakpoint
ALTER TABLE `citations_next` RENAME TO `citations`;
--> statement-breakpoint
CREATE INDEX `citations_source` ON `citations` (`source_id`);
