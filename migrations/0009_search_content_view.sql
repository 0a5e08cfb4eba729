-- The search index's text is no longer stored twice. search_rows keeps what only the index has (kind,
-- where the item lives, the section's searchable name, the curated questions as text); the title and
-- body FTS5 indexes are read from the content tables themselves through the view search_content,
-- composed exactly as src/repositories/rows.ts composes them (statementSearchRow, statisticSearchRow,
-- conditionSearchRow). search_index is an external-content table over that view. An external-content
-- index deletes a row's tokens with the row's old values, so the triggers run BEFORE a search row is
-- deleted or updated, while the statement, statistic or condition it reads from is still there:
-- writers remove a search row before the content it indexes (src/repositories/rows.ts).
DROP TRIGGER `search_rows_insert`;--> statement-breakpoint
DROP TRIGGER `search_rows_delete`;--> statement-breakpoint
DROP TRIGGER `search_rows_update`;--> statement-breakpoint
DROP TABLE `search_index`;--> statement-breakpoint
CREATE TABLE `search_rows_next` (
	`id` integer PRIMARY KEY,
	`kind` text NOT NULL,
	`entity_id` text NOT NULL,
	`condition_id` text NOT NULL,
	`section` text DEFAULT '' NOT NULL,
	`section_name` text DEFAULT '' NOT NULL,
	`questions` text DEFAULT '' NOT NULL
);--> statement-breakpoint
INSERT INTO `search_rows_next` (`id`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `questions`)
SELECT `id`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `questions` FROM `search_rows` ORDER BY `id`;--> statement-breakpoint
DROP TABLE `search_rows`;--> statement-breakpoint
ALTER TABLE `search_rows_next` RENAME TO `search_rows`;--> statement-breakpoint
CREATE INDEX `search_rows_condition` ON `search_rows` (`condition_id`, `kind`);--> statement-breakpoint
CREATE VIEW `search_content` AS
SELECT r.`id`, r.`kind`, r.`entity_id`, r.`condition_id`, r.`section`, r.`section_name`,
	CASE r.`kind`
		WHEN 'condition' THEN c.`name`
		WHEN 'statistic' THEN st.`measure` || ': ' || st.`population`
		ELSE s.`name`
	END AS `title`,
	CASE r.`kind`
		WHEN 'condition' THEN c.`summary` || coalesce((SELECT ' ' || group_concat(a.`alias`, ' ' ORDER BY a.`position`) FROM `condition_aliases` a WHERE a.`condition_id` = c.`id`), '')
		WHEN 'statistic' THEN concat_ws(' ', nullif(st.`text`, ''), nullif(st.`outcome`, ''), nullif(st.`timepoint`, ''))
		ELSE concat_ws(' ', s.`text`, nullif(s.`purpose`, ''), nullif(s.`risks`, ''), nullif(s.`route`, ''), nullif(s.`goal`, ''), nullif(s.`regulatory_note`, ''))
	END AS `body`,
	r.`questions`
FROM `search_rows` r
LEFT JOIN `conditions` c ON r.`kind` = 'condition' AND c.`id` = r.`entity_id`
LEFT JOIN `statistics` st ON r.`kind` = 'statistic' AND st.`id` = r.`entity_id`
LEFT JOIN `statements` s ON r.`kind` NOT IN ('condition', 'statistic') AND s.`id` = r.`entity_id`;--> statement-breakpoint
CREATE VIRTUAL TABLE `search_index` USING fts5(
	`kind` UNINDEXED,
	`entity_id` UNINDEXED,
	`condition_id` UNINDEXED,
	`section` UNINDEXED,
	`section_name`,
	`title`,
	`body`,
	`questions`,
	content = 'search_content',
	content_rowid = 'id',
	tokenize = 'porter unicode61 remove_diacritics 2'
);--> statement-breakpoint
INSERT INTO `search_index` (`search_index`) VALUES ('rebuild');--> statement-breakpoint
CREATE TRIGGER `search_rows_insert` AFTER INSERT ON `search_rows` BEGIN
	INSERT INTO `search_index` (`rowid`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
	SELECT `id`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions` FROM `search_content` WHERE `id` = new.`id`;
END;--> statement-breakpoint
CREATE TRIGGER `search_rows_delete` BEFORE DELETE ON `search_rows` BEGIN
	INSERT INTO `search_index` (`search_index`, `rowid`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
	SELECT 'delete', `id`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions` FROM `search_content` WHERE `id` = old.`id`;
END;--> statement-breakpoint
CREATE TRIGGER `search_rows_update_before` BEFORE UPDATE ON `search_rows` BEGIN
	INSERT INTO `search_index` (`search_index`, `rowid`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
	SELECT 'delete', `id`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions` FROM `search_content` WHERE `id` = old.`id`;
END;--> statement-breakpoint
CREATE TRIGGER `search_rows_update_after` AFTER UPDATE ON `search_rows` BEGIN
	INSERT INTO `search_index` (`rowid`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
	SELECT `id`, `kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions` FROM `search_content` WHERE `id` = new.`id`;
END;
