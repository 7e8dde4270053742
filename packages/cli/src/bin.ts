#!/usr/bin/env node
/**
 * The `lico` binary.
 */
import { runCliProcess } from './run-process';

void runCliProcess(process.argv.slice(2));
