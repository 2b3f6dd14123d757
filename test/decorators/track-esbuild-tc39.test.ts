import 'reflect-metadata';
import { runTrackCases } from './cases.js';
import { definePrivateShapes } from './private-shapes.js';
import { defineShapes } from './shapes.js';

runTrackCases({ compiler: 'esbuild', mode: 'tc39', defineShapes, definePrivateShapes });
