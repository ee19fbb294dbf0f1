import { describe, expect, it } from 'vitest';
import { acceptSingleDashOptions } from './argv.js';

describe('acceptSingleDashOptions', () => {
  it('rewrites the reference product\'s single-dash long options and leaves the rest alone', () => {
    const known = ['backupOnBoot', 'backupDir', 'nodeName', 'overwrite', 'home'];
    expect(
      acceptSingleDashOptions(['-backupOnBoot', 'true', '-backupDir', '/b', '-f', 'x.zip', '-overwrite', '--home', 'h', '-5', '-nodename'], known),
    ).toEqual(['--backupOnBoot', 'true', '--backupDir', '/b', '-f', 'x.zip', '--overwrite', '--home', 'h', '-5', '-nodename']);
    expect(acceptSingleDashOptions(['-backup-on-boot=false'], known)).toEqual(['--backup-on-boot=false']);
    expect(acceptSingleDashOptions(['--', '-overwrite'], known)).toEqual(['--', '-overwrite']);
  });
});
