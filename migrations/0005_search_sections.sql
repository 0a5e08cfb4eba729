-- Search knows where each item lives: `section` (the section key, not searched) and `section_name`
-- (its words, searched: "risk factors", "statistics mortality"), and `questions` (the lay
-- phrasings curators wrote for the item, searched with a high weight). FTS5 tables cannot gain
-- columns, so the index is rebuilt from the old one; the section names mirror
-- sectionSearchName() in src/repositories/rows.ts.
CREATE VIRTUAL TABLE `search_index_next` USING fts5(
	`kind` UNINDEXED,
	`entity_id` UNINDEXED,
	`condition_id` UNINDEXED,
	`section` UNINDEXED,
	`section_name`,
	`title`,
	`body`,
	`questions`,
	tokenize = 'porter unicode61 remove_diacritics 2'
);--> statement-breakpoint
INSERT INTO `search_index_next` (`kind`, `entity_id`, `condition_id`, `section`, `section_name`, `title`, `body`, `questions`)
SELECT i.`kind`, i.`entity_id`, i.`condition_id`,
  CASE i.`kind` WHEN 'condition' THEN 'condition' WHEN 'statistic' THEN 'statistics' ELSE s.`section` END,
  CASE
    WHEN i.`kind` = 'condition' THEN 'overview'
    WHEN i.`kind` = 'statistic' THEN 'statistics ' || replace(st.`measure`, '-', ' ')
    WHEN s.`section` = 'riskFactors' THEN 'risk factors'
    WHEN s.`section` = 'whenToSeekCare' THEN 'when to seek care'
    WHEN s.`section` = 'differentialDiagnosis' THEN 'differential diagnosis'
    ELSE coalesce(s.`section`, '')
  END,
  i.`title`, i.`body`,
  coalesce((SELECT group_concat(value, ' ') FROM json_each(s.`questions`)), '')
FROM `search_index` i
LEFT JOIN `statements` s ON s.`id` = i.`entity_id` AND i.`kind` NOT IN ('condition', 'statistic')
LEFT JOIN `statistics` st ON st.`id` = i.`entity_id` AND i.`kind` = 'statistic';--> statement-breakpoint
DROP TABLE `search_index`;--> statement-breakpoint
ALTER TABLE `search_index_next` RENAME TO `search_index`;
