// The benchmark (issue: performance) is not written yet; this keeps `npm run bench` honest.
console.log('bench: not yet implemented (see the performance issue). Nothing was measured.');
