-- SQLite checks a foreign key from the child's side whenever a parent row is deleted: a curated
-- write replaces a changed statement's or source's row, and without an index on the child column
-- each check scanned every statistic (3-35 ms a write at 1,000 conditions). tests/write-cost.test.ts
-- keeps every foreign key indexed. treatment_id is partial: most figures are about no treatment.
CREATE INDEX `statistics_treatment` ON `statistics` (`treatment_id`) WHERE "statistics"."treatment_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `statistics_primary_source` ON `statistics` (`primary_source_id`);
