// A program that uses the library and knows nothing of tallyho.
import { load, Matrix, read } from './index.mjs';

const a = read('1 2\n3 4', 'text');
const b = read('0,1\n1,0', 'csv');
read('5 6 7\n8 9 10', 'a-format-of-the-users-own');
console.log(a.multiply(b).toString());
console.log(Matrix.identity(2).multiply(a).toString());
console.log((await load('1 1\n1 1')).length, 'rows loaded');
