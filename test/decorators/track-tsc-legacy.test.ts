// The legacy build calls Reflect.metadata while its classes are defined: load the polyfill first.
import 'reflect-metadata';
import { runTrackCases } from './cases.js';
import { loadTscBuild } from './tsc-build.js';

runTrackCases({ compiler: 'tsc', mode: 'legacy', ...(await loadTscBuild('legacy')) });
