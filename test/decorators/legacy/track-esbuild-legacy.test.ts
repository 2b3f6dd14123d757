import 'reflect-metadata';
import { runTrackCases } from '../cases.js';
import { defineShapes } from './shapes.generated.js';

runTrackCases({ compiler: 'esbuild', mode: 'legacy', defineShapes });
