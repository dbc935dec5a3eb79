#!/usr/bin/env node
import { launch } from './launch.js';
const cli = await launch('cli/antrea-agent');
await cli.main();
