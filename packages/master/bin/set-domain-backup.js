#!/usr/bin/env node
import '../dist/set-domain-backup/cli.js';
