import { setFlagsFromString } from 'node:v8';

/**
 * V8's interrupt budget (bytecode executed before a function is considered for the optimizing
 * compiler), ten times its default of 66 KiB. A pack is a process of a second or two that runs
 * much of its code only briefly (argument parsing, the configuration's schemas, the manifest):
 * at the default, the optimizing compiler spends more CPU time on that code than it saves. With
 * ten times the budget it still optimizes what stays hot (zip headers, the age library's cipher),
 * and a pack of a 2 559-file npm tree took 1.2 s of CPU instead of 1.5 s (/usr/bin/time, A/B);
 * turning the optimizing compiler off altogether (--max-opt=1) made encryption slower instead.
 */
const INTERRUPT_BUDGET = 10 * 67_584;

// Imported first by cli.ts, so set before the rest loads; the MASTER, which packs its boot
// backups with the same code but runs for days, keeps V8's defaults.
setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
