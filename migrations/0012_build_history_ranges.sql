-- The build's own create entries become one range of seqs per built condition, kept in its
-- built_contents row (db/schema.ts), instead of a revision row and a change row per entity.
-- Rows written before keep their history as rows: the new columns stay null for them.
-- built_sources is WITHOUT ROWID (drizzle-kit cannot express it; the columns are db/schema.ts's).
CREATE TABLE `built_sources` (
	`source_id` text PRIMARY KEY NOT NULL,
	`condition_id` text NOT NULL
) WITHOUT ROWID;
--> statement-breakpoint
ALTER TABLE `built_contents` ADD `first_seq` integer;--> statement-breakpoint
ALTER TABLE `built_contents` ADD `entries` integer;--> statement-breakpoint
ALTER TABLE `built_contents` ADD `condition_version` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `built_contents_first_seq` ON `built_contents` (`first_seq`);
