// An ES module consumer: loads tallyho through `import`.
import * as tallyho from 'tallyho';
import { exercise } from './hand-applied.cjs';

const result = exercise(tallyho, 'consumer-esm');
console.log(JSON.stringify({ ...result, resolved: import.meta.resolve('tallyho') }));
