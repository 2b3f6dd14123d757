'use strict';
// A CommonJS consumer: loads tallyho through `require`.
const tallyho = require('tallyho');
const { exercise } = require('./hand-applied.cjs');

const result = exercise(tallyho, 'consumer-cjs');
console.log(JSON.stringify({ ...result, resolved: require.resolve('tallyho') }));
