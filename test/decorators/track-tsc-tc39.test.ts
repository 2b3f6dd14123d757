import 'reflect-metadata';
import { runTrackCases } from './cases.js';
import { loadTscBuild } from './tsc-build.js';

runTrackCases({ compiler: 'tsc', mode: 'tc39', ...(await loadTscBuild('tc39')) });
