// A plain JavaScript module: no decorators, no tallyho. index.mjs counts all of it in one line.

/** Parses "1 2\n3 4" into a matrix. */
export function parse(text) {
  return text
    .trim()
    .split('\n')
    .map((row) => row.trim().split(/\s+/).map(Number));
}

/** Loads a matrix asynchronously, as a reader of a file would. */
export async function load(text) {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return parse(text);
}

export class Matrix {
  static identity(n) {
    return new Matrix(Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))));
  }

  constructor(rows) {
    this.rows = rows;
  }

  multiply(other) {
    return new Matrix(this.rows.map((row) => other.rows[0].map((_, j) => row.reduce((sum, v, k) => sum + v * other.rows[k][j], 0))));
  }

  toString() {
    return this.rows.map((row) => row.join(' ')).join('\n');
  }
}
