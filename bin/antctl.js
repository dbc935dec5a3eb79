#!/usr/bin/env node
import { launch } from './launch.js';
const cli = await launch('cli/antctl');
await cli.main();
