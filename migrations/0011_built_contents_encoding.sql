-- The build's contents (built_contents) are compressed with Brotli from now on (8.2 MB at 1,000
-- conditions where raw DEFLATE took 9.6 MB). Rows written before keep their raw DEFLATE bodies
-- and are marked so by the default: src/repositories/builtContents.ts reads either.
ALTER TABLE `built_contents` ADD `encoding` text DEFAULT 'deflate-raw' NOT NULL;
