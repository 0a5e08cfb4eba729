-- Change-feed entries list the URLs their write changed (a JSON array; null for the build's entries,
-- whose URLs follow from the entity): see src/curation/affects.ts.
ALTER TABLE `changes` ADD `affects` text;
