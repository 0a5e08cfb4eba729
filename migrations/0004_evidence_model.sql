ALTER TABLE `citations` ADD `locator` text;--> statement-breakpoint
ALTER TABLE `statements` ADD `code_system` text;--> statement-breakpoint
ALTER TABLE `statements` ADD `code` text;--> statement-breakpoint
ALTER TABLE `statements` ADD `code_display` text;--> statement-breakpoint
ALTER TABLE `statements` ADD `questions` text;--> statement-breakpoint
ALTER TABLE `statistics` ADD `estimate_type` text DEFAULT 'other' NOT NULL;--> statement-breakpoint
ALTER TABLE `statistics` ADD `interval_level` real;--> statement-breakpoint
ALTER TABLE `statistics` ADD `interval_low` real;--> statement-breakpoint
ALTER TABLE `statistics` ADD `interval_high` real;--> statement-breakpoint
ALTER TABLE `statistics` ADD `events` integer;--> statement-breakpoint
ALTER TABLE `statistics` ADD `compared_label` text;--> statement-breakpoint
ALTER TABLE `statistics` ADD `compared_treatment_id` text;--> statement-breakpoint
ALTER TABLE `statistics` ADD `study_design` text DEFAULT 'unknown' NOT NULL;--> statement-breakpoint
ALTER TABLE `statistics` ADD `primary_source_id` text REFERENCES sources(id);--> statement-breakpoint
ALTER TABLE `statistics` ADD `certainty` text DEFAULT 'not-assessed' NOT NULL;--> statement-breakpoint
ALTER TABLE `statistics` ADD `certainty_basis` text;--> statement-breakpoint
-- Databases built before the evidence model: the first cited work stands in as the primary source
-- (it was what studyType and year were read from), and the unit says what kind of number it is.
-- Study design stays 'unknown' and certainty 'not-assessed' until curators say otherwise.
UPDATE `statistics` SET `primary_source_id` = (
  SELECT `source_id` FROM `citations` WHERE `entity_type` = 'statistic' AND `entity_id` = `statistics`.`id` ORDER BY `position` LIMIT 1
) WHERE `primary_source_id` IS NULL;--> statement-breakpoint
UPDATE `statistics` SET `estimate_type` = CASE WHEN `unit` = '%' THEN 'proportion' ELSE 'count' END WHERE `estimate_type` = 'other';
