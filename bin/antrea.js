#!/usr/bin/env node
import { launch } from './launch.js';
const cli = await launch('cli/antrea');
await cli.main();
