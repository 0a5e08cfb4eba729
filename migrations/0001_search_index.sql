-- Full-text index over every searchable text (drizzle-kit cannot express FTS5 virtual tables).
-- Rows are written by the build (and by curator writes) in the same transaction as the content.
-- porter stemming so "ulcers" finds "ulcer"; unicode61 folds case and diacritics.
CREATE VIRTUAL TABLE `search_index` USING fts5(
	`kind` UNINDEXED,
	`entity_id` UNINDEXED,
	`condition_id` UNINDEXED,
	`title`,
	`body`,
	tokenize = 'porter unicode61 remove_diacritics 2'
);
