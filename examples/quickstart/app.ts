// A program that uses the library. It knows nothing of tallyho.
import { Client, exportCsv, Parser } from './acme-sdk.js';

const client = new Client('db://localhost/shop');
console.log('host:', Client.parseUrl(client.url).host);
for (const sql of ['select * from orders', 'select * from users', 'select 1']) {
  console.log(`query: ${client.query(sql).length} words`);
}
const parser = new Parser();
console.log('parsed:', parser.parse('{"total": 42}'));
try {
  parser.parse('{ not json');
} catch {
  console.log('parse error (expected)');
}
console.log(exportCsv([['a', 'b'], ['1', '2']]));
console.log('done: tallyho prints its report to stderr as the program exits');
