// A CommonJS program that uses the library. It knows nothing of tallyho.
'use strict';

const { Client, exportCsv } = require('./acme-sdk.cjs');

const client = new Client('db://localhost/shop');
console.log('host:', Client.parseUrl(client.url).host);
for (const sql of ['select * from orders', 'select 1']) {
  console.log(`query: ${client.query(sql).length} words`);
}
console.log(exportCsv([['a', 'b'], ['1', '2']]));
console.log(exportCsv([['c', 'd']]));
console.log('done: tallyho prints its report to stderr as the program exits');
