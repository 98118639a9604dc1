import type { Command } from 'commander';
import { registerBackupCommands } from './backup/command.ts';
import { registerClusterCommand } from './cluster/local/command.ts';
import { registerMigrateCommand } from './cluster/migrate/command.ts';
import { registerKeyCommands } from './dashboards/command.ts';
import { registerDeviceCommands } from './devices/command.ts';
import { registerKpiCommands } from './metrics/command.ts';
import { registerReportCommands } from './metrics/report-pack/command.ts';
import { registerSimulateCommand } from './simulators/command.ts';

/** The command areas beside start and demo, one line each: each adds its own commands to the program. */
export const COMMAND_AREAS: ReadonlyArray<(program: Command) => void> = [
  registerSimulateCommand,
  registerDeviceCommands,
  registerKeyCommands,
  registerKpiCommands,
  registerReportCommands,
  registerBackupCommands,
  registerClusterCommand,
  registerMigrateCommand,
];
