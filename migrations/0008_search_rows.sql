-- Search rows in a table of their own, `search_rows` (its `id` is the FTS rowid), indexed by
-- condition, and `search_index` an external-content FTS5 table over it (content=search_rows), kept
-- exact by the triggers below: a row inserted, deleted or updated in search_rows is indexed,
-- unindexed or reindexed in the same statement. Until now every condition- or kind-filtered
-- ranking read the stored row of every match to test an UNINDEXED column (`condition_id = ?`);
-- the condition's rowids now come from the index. Writers write search_rows and never
-- search_index (an external-content index cannot delete a row without its old values). FTS5
-- tables cannot change in place, so the index is rebuilt from the rows, with the same rowids.
CREATE TABLE `search_rows` (
	`id` integer PRIMARY KEY,
	`kind` text NOT NULL,
	`entity_id` text NOT NULL,
	`condition_id` text NOT NULL,
	`section` text DEFAULT '' NOT NULL,
	`section_name` text DEFAULT '' NOT NULL,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`questions` text DEFAULT '' NOT NULL
);--> statement-breakpoint
INSERT INTO `search_rows` (`id`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
SELECT `rowid`, `kind`, `entity_id`, `condition_id`, coalesce(`section`, ''), coalesce(`section_name`, ''), `title`, `body`, coalesce(`questions`, '')
FROM `search_index` ORDER BY `rowid`;--> statement-breakpoint
DROP TABLE `search_index`;--> statement-breakpoint
CREATE VIRTUAL TABLE `search_index` USING fts5(
	`kind` UNINDEXED,
	`entity_id` UNINDEXED,
	`condition_id` UNINDEXED,
	`section` UNINDEXED,
	`section_name`,
	`title`,
	`body`,
	`questions`,
	content = 'search_rows',
	content_rowid = 'id',
	tokenize = 'porter unicode61 remove_diacritics 2'
);--> statement-breakpoint
INSERT INTO `search_index` (`search_index`) VALUES ('rebuild');--> statement-breakpoint
CREATE INDEX `search_rows_condition` ON `search_rows` (`condition_id`, `kind`);--> statement-breakpoint
CREATE TRIGGER `search_rows_insert` AFTER INSERT ON `search_rows` BEGIN
	INSERT INTO `search_index` (`rowid`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
	VALUES (new.`id`, new.`kind`, new.`entity_id`, new.`condition_id`, new.`section`, new.`section_name`, new.`title`, new.`body`, new.`questions`);
END;--> statement-breakpoint
CREATE TRIGGER `search_rows_delete` AFTER DELETE ON `search_rows` BEGIN
	INSERT INTO `search_index` (`search_index`, `rowid`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
	VALUES ('delete', old.`id`, old.`kind`, old.`entity_id`, old.`condition_id`, old.`section`, old.`section_name`, old.`title`, old.`body`, old.`questions`);
END;--> statement-breakpoint
CREATE TRIGGER `search_rows_update` AFTER UPDATE ON `search_rows` BEGIN
	INSERT INTO `search_index` (`search_index`, `rowid`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
	VALUES ('delete', old.`id`, old.`kind`, old.`entity_id`, old.`condition_id`, old.`section`, old.`section_name`, old.`title`, old.`body`, old.`questions`);
	INSERT INTO `search_index` (`rowid`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
	VALUES (new.`id`, new.`kind`, new.`entity_id`, new.`condition_id`, new.`section`, new.`section_name`, new.`title`, new.`body`, new.`questions`);
END;
