export { runCli, closest, formatOverview, EXIT_CODES, InterruptedError, CLI_VERSION, type CliIo, type CommandHandler } from './run-cli';
export {
  parseCommandArgs,
  formatCommandHelp,
  checkValue,
  describeValues,
  optionsOf,
  UsageError,
  type CommandSpec,
  type OptionSpec,
  type OptionValueKind,
  type ParsedOptions,
} from './args/options';
export {
  COMMAND_SPECS,
  TRAIN_SPEC,
  EXPLAIN_SPEC,
  EVALUATE_SPEC,
  REPORT_SPEC,
  QUICKSTART_SPEC,
  DATASET_NAMES,
  BACKBONE_NAMES,
  TEXT_NAMES,
  MODE_NAMES,
  BACKEND_CHOICES,
  INTERPRETER_NAMES,
} from './args/command-specs';
export { escapeHtml } from './report/escape-html';
export { svgLinePlot, PLOT_PALETTE, type PlotSeries, type LinePlotOptions } from './report/svg-line-plot';
export { renderReport, pngDataUri, type ReportRun, type ReportInput } from './report/render-report';
export { encodePng } from './report/encode-png';
export { readRunDirectory, writeReport, type WriteReportOptions } from './commands/report-command';
export {
  parseResultsFile,
  type TrainResults,
  type EpochRecord,
  type EvaluationResults,
  type SaliencyRecord,
  type LocalisationRecord,
  type ExplanationsIndex,
  type ExplanationItem,
  type QuickstartResults,
  type ModeSummary,
} from './results/results-schema';
