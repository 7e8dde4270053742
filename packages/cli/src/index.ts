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
export { trainRun, runPaths, type TrainRunOptions, type TrainRunResult } from './pipeline/train-run';
export {
  loadDataset,
  labelledSubset,
  firstSamples,
  createBackbone,
  createObjective,
  featurePositions,
  availableDatasets,
  availableBackbones,
  type CliDataset,
  type LoadDatasetOptions,
  type BackboneOptions,
  type ObjectiveOptions,
  type BuiltObjective,
} from './pipeline/components';
export { packageVersions } from './pipeline/versions';
export { runCliProcess } from './run-process';
export { quickstartRun, type QuickstartOptions, type QuickstartResult } from './pipeline/quickstart-run';
export { evaluateRun, accuracyOf, saliencyMetrics, CLI_SALIENCY_PROTOCOL, type EvaluateRunOptions } from './pipeline/evaluate-run';
export { explainRun, type ExplainRunOptions } from './pipeline/explain-run';
export { loadTrainedModel, type LoadedModel, type RunEnvironmentOptions } from './pipeline/load-model';
export { interpreterByName, renderHeatmapOverlay, renderInput, localisationScores, type ChannelNormalization } from './pipeline/saliency';
