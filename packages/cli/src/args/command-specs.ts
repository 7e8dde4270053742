/**
 * The option tables of every `lico` command. They drive parsing, validation and `--help`.
 */
import type { CommandSpec, OptionSpec } from './options';

/** Datasets `--dataset` accepts by name (plus `folder:PATH`). */
export const DATASET_NAMES = ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'svhn', 'fashion-mnist-localisation'] as const;
/** Backbones `--backbone` accepts. */
export const BACKBONE_NAMES = ['wrn-28-2', 'wrn-28-8', 'wrn-16-1', 'wrn-16-2', 'wrn-10-1', 'resnet-18', 'resnet-34', 'resnet-50', 'resnet-101', 'preact-resnet-18'] as const;
/** Text encoders `--text` accepts (plus `clip:DIR`). */
export const TEXT_NAMES = ['word-vectors', 'clip'] as const;
/** Training modes. */
export const MODE_NAMES = ['baseline', 'lico'] as const;
/** Backends `--backend` accepts. */
export const BACKEND_CHOICES = ['auto', 'wasm', 'cpu', 'tensorflow'] as const;
/** Interpreters `--interpreters` accepts. */
export const INTERPRETER_NAMES = [
  'gradCam',
  'gradCamPlusPlus',
  'xGradCam',
  'layerCam',
  'scoreCam',
  'rise',
  'eigenCam',
  'hiResCam',
  'gradCamElementWise',
  'eigenGradCam',
  'ablationCam',
  'fullGrad',
  'gradient',
  'integratedGradients',
  'smoothGrad',
  'occlusion',
] as const;
/** Extra saliency metrics `lico evaluate --metrics` accepts (beside insertion/deletion and, with masks, localisation). */
export const METRIC_NAMES = ['road', 'sparseness', 'max-sensitivity'] as const;
/** `--augment` values. */
export const AUGMENT_CHOICES = ['auto', 'none', 'crop', 'crop-flip', 'crop-flip-noise'] as const;
/** `--mm-sign` values. */
export const MM_SIGN_CHOICES = ['minus', 'plus'] as const;
/** `--temperature` values. */
export const TEMPERATURE_CHOICES = ['divisor', 'clip-scale'] as const;
/** `--ot-gradient` values. */
export const OT_GRADIENT_CHOICES = ['detached-plan', 'differentiable-plan', 'none'] as const;
/** `--prompt-variants` values. */
export const PROMPT_VARIANT_CHOICES = ['roll', 'shift-one', 'class-specific'] as const;

/**
 * The options that define one training run (shared by `lico train` and the arms of `lico study`);
 * defaults are the spec's (`lico-spec.md`).
 */
export const TRAIN_RUN_OPTIONS: readonly OptionSpec[] = [
  { name: 'backbone', valueName: '<name>', description: 'Image classifier architecture.', value: { kind: 'choice', choices: BACKBONE_NAMES }, default: 'wrn-28-2' },
  {
    name: 'text',
    valueName: '<name>',
    description: "Frozen text encoder for LICO: 'clip' (weights from clip:DIR, a local Hugging Face CLIP directory) or 'word-vectors' (built in).",
    value: { kind: 'choice', choices: TEXT_NAMES, prefixes: ['clip:'] },
    default: 'word-vectors',
  },
  { name: 'mode', valueName: '<name>', description: 'baseline = cross-entropy only; lico = CE + alpha*MM + beta*OT.', value: { kind: 'choice', choices: MODE_NAMES }, default: 'lico' },
  { name: 'labels', valueName: '<n>', description: 'Number of labelled training images (a class-balanced, seeded subset).', value: { kind: 'integer', min: 1, words: ['all'] }, default: 'all' },
  { name: 'validation', valueName: '<n>', description: 'Class-balanced validation images held out of the training split (disjoint from the labelled ones); accuracy on them is recorded after every epoch.', value: { kind: 'integer', min: 0 }, default: '0' },
  { name: 'validate-every', valueName: '<k>', description: 'With --validation: measure it after every k-th epoch and after the last.', value: { kind: 'integer', min: 1 }, default: '1' },
  { name: 'epochs', valueName: '<n>', description: 'Training epochs.', value: { kind: 'integer', min: 1 }, default: '1' },
  { name: 'batch-size', valueName: '<n>', description: 'Images per step.', value: { kind: 'integer', min: 1 }, default: '64' },
  { name: 'lr', valueName: '<x>', description: 'Initial learning rate (cosine decay per step).', value: { kind: 'number', min: 0, exclusiveMin: true }, default: '0.03' },
  { name: 'alpha', valueName: '<x>', description: 'Weight of the manifold-matching loss (lico mode); 0 leaves the term out.', value: { kind: 'number', min: 0 }, default: '10' },
  { name: 'beta', valueName: '<x>', description: 'Weight of the optimal-transport loss (lico mode); 0 leaves the term out.', value: { kind: 'number', min: 0 }, default: '1' },
  { name: 'mm-sign', valueName: '<sign>', description: "Sign of the distances in the manifold-matching softmax: minus (softmax of -d, the paper) or plus (+d, the authors' code).", value: { kind: 'choice', choices: MM_SIGN_CHOICES }, default: 'minus' },
  { name: 'temperature', valueName: '<form>', description: "How tau scales the MM distances: divisor (d/tau, the spec) or clip-scale (d*exp(tau) as CLIP, about 14.3x at the initial tau).", value: { kind: 'choice', choices: TEMPERATURE_CHOICES }, default: 'divisor' },
  { name: 'ot-gradient', valueName: '<mode>', description: "What the OT term passes back: detached-plan (gradient through the cost, the spec), differentiable-plan (also through Sinkhorn), none (computed and logged but no gradient: the authors' no_grad).", value: { kind: 'choice', choices: OT_GRADIENT_CHOICES }, default: 'detached-plan' },
  { name: 'prompt-variants', valueName: '<mode>', description: "The M prompt variants of a class: roll (variant r = context rolled by r, the spec), shift-one (all rolled by 1, the authors' corrected code), class-specific (own context per class).", value: { kind: 'choice', choices: PROMPT_VARIANT_CHOICES }, default: 'roll' },
  { name: 'context', valueName: '<M>', description: 'Learnable context vectors (and prompt variants) per class.', value: { kind: 'integer', min: 1 }, default: '12' },
  { name: 'weight-decay', valueName: '<x>', description: "SGD weight decay (L2, as PyTorch); the authors' script uses 5e-4.", value: { kind: 'number', min: 0 }, default: '0.0001' },
  { name: 'ema', valueName: '<decay>', description: 'EMA decay of the evaluated weights; 0 turns the EMA off.', value: { kind: 'number', min: 0 }, default: '0' },
  { name: 'augment', valueName: '<name>', description: 'Training augmentation: auto = crop-flip for 32x32 images, crop for 28x28 (4-pixel padding), none otherwise; crop-flip-noise adds Gaussian noise (std 0.1).', value: { kind: 'choice', choices: AUGMENT_CHOICES }, default: 'auto' },
];

/** Dataset splits. */
export const SPLIT_NAMES = ['train', 'test'] as const;

const dataDir: OptionSpec = {
  name: 'data-dir',
  valueName: '<dir>',
  description:
    'Where the dataset files are (default: Debian\'s /usr/share/datasets/<name>, then the cache ~/.cache/lico/datasets/<name>).',
  value: { kind: 'text' },
};
const backend: OptionSpec = {
  name: 'backend',
  valueName: '<name>',
  description: "TensorFlow.js backend; 'auto' prefers @tensorflow/tfjs-node(-gpu), then wasm, then cpu.",
  value: { kind: 'choice', choices: BACKEND_CHOICES },
  default: 'auto',
};
const seed: OptionSpec = { name: 'seed', valueName: '<n>', description: 'Seed of every random choice.', value: { kind: 'integer', min: 0 }, default: '0' };
const threads: OptionSpec = {
  name: 'threads',
  valueName: '<n>',
  description: "Threads of the wasm backend; 'auto' = the number of cores (at most 8), or LICO_WASM_THREADS when set.",
  value: { kind: 'integer', min: 1, words: ['auto'] },
  default: 'auto',
};
const quiet: OptionSpec = { name: 'quiet', description: 'Print no progress bars, only results and errors.', value: { kind: 'flag' } };

/** `lico train`. */
export const TRAIN_SPEC: CommandSpec = {
  name: 'train',
  summary: 'Train an image classifier, as a baseline (cross-entropy only) or with LICO\'s two language losses.',
  details:
    'Writes checkpoints to DIR/checkpoint and the run\'s record to DIR/results.json (final metrics under "final"). ' +
    'Ctrl-C saves a checkpoint; the same command with --resume continues and ends with exactly the weights ' +
    'and metrics of an uninterrupted run.',
  options: [
    { name: 'dataset', valueName: '<name>', description: 'Training data.', value: { kind: 'choice', choices: DATASET_NAMES, prefixes: ['folder:'] }, required: true },
    ...TRAIN_RUN_OPTIONS,
    { name: 'eval-size', valueName: '<n>', description: 'Test images used for the final accuracy.', value: { kind: 'integer', min: 1, words: ['all'] }, default: 'all' },
    seed,
    backend,
    threads,
    dataDir,
    { name: 'out', valueName: '<dir>', description: 'Output directory (checkpoints, results.json).', value: { kind: 'text' }, required: true },
    { name: 'resume', description: 'Continue from the checkpoint in --out.', value: { kind: 'flag' } },
    quiet,
  ],
  examples: [
    'lico train --dataset fashion-mnist --backbone wrn-16-1 --mode lico --labels 4000 --epochs 2 --out runs/fm-lico',
    'lico train --dataset cifar10 --backbone wrn-28-2 --text clip:./clip-vit-base-patch32 --mode lico --out runs/c10',
    'lico train ... --out runs/c10 --resume      # after Ctrl-C',
  ],
};

/** `lico explain`. */
export const EXPLAIN_SPEC: CommandSpec = {
  name: 'explain',
  summary: 'Run interpreters on images and write saliency overlays as PNG files.',
  details: 'Writes DIR/<index>-<interpreter>.png, DIR/<index>-input.png and DIR/explanations.json.',
  options: [
    { name: 'model', valueName: '<dir>', description: 'A directory written by lico train.', value: { kind: 'text' }, required: true },
    {
      name: 'images',
      valueName: '<name>',
      description: 'Images to explain: a dataset by name (its test split) or folder:PATH.',
      value: { kind: 'choice', choices: DATASET_NAMES, prefixes: ['folder:'] },
      required: true,
    },
    { name: 'interpreters', valueName: '<list>', description: 'Saliency methods.', value: { kind: 'list', choices: INTERPRETER_NAMES }, default: 'gradCam,gradCamPlusPlus' },
    { name: 'count', valueName: '<n>', description: 'Number of images.', value: { kind: 'integer', min: 1 }, default: '8' },
    seed,
    backend,
    threads,
    dataDir,
    { name: 'out', valueName: '<dir>', description: 'Output directory (default: <model>/explanations).', value: { kind: 'text' } },
    quiet,
  ],
  examples: ['lico explain --model runs/fm-lico --images fashion-mnist --interpreters gradCam,scoreCam --count 16'],
};

/** `lico evaluate`. */
export const EVALUATE_SPEC: CommandSpec = {
  name: 'evaluate',
  summary: 'Measure accuracy and, per interpreter, insertion/deletion AUC; on data with masks also the pointing game and energy in the mask; optionally ROAD, sparseness and max-sensitivity (--metrics).',
  details: 'Writes the measurements as JSON (default: <model>/evaluation.json).',
  options: [
    { name: 'model', valueName: '<dir>', description: 'A directory written by lico train.', value: { kind: 'text' }, required: true },
    {
      name: 'dataset',
      valueName: '<name>',
      description: 'Evaluation data: a dataset by name (test split), folder:PATH, or localisation:PATH (images with masks).',
      value: { kind: 'choice', choices: DATASET_NAMES, prefixes: ['folder:', 'localisation:'] },
      required: true,
    },
    { name: 'interpreters', valueName: '<list>', description: 'Saliency methods to measure.', value: { kind: 'list', choices: INTERPRETER_NAMES }, default: 'gradCam,gradCamPlusPlus' },
    { name: 'limit', valueName: '<n>', description: 'Images used for accuracy.', value: { kind: 'integer', min: 1, words: ['all'] }, default: 'all' },
    { name: 'saliency-images', valueName: '<n>', description: 'Images used for the saliency metrics.', value: { kind: 'integer', min: 1 }, default: '64' },
    { name: 'step-size', valueName: '<n>', description: 'Pixels changed per insertion/deletion step.', value: { kind: 'integer', min: 1 }, default: '16' },
    { name: 'batch-size', valueName: '<n>', description: 'Images per forward pass.', value: { kind: 'integer', min: 1 }, default: '250' },
    {
      name: 'metrics',
      valueName: '<list>',
      description:
        'Extra metrics on the same maps: road (ROAD combined, MoRF and LeRF averages at percentiles 10..90, pytorch-grad-cam), sparseness (Gini, Quantus), max-sensitivity (Quantus, uniform noise radius 0.2).',
      value: { kind: 'list', choices: METRIC_NAMES },
    },
    { name: 'sensitivity-samples', valueName: '<n>', description: 'Perturbations per image for max-sensitivity (Quantus uses 200).', value: { kind: 'integer', min: 1 }, default: '10' },
    seed,
    backend,
    threads,
    dataDir,
    { name: 'out', valueName: '<file>', description: 'Output JSON (default: <model>/evaluation.json).', value: { kind: 'text' } },
    quiet,
  ],
  examples: ['lico evaluate --model runs/fm-lico --dataset fashion-mnist --interpreters gradCam,rise --saliency-images 128'],
};

/** `lico report`. */
export const REPORT_SPEC: CommandSpec = {
  name: 'report',
  summary: 'Write one self-contained HTML page: result tables, insertion/deletion curves, heatmap grids, runs side by side.',
  details: 'Each --run is a directory written by lico train (results.json), lico evaluate (evaluation.json) and lico explain (explanations/).',
  options: [
    { name: 'run', valueName: '<dir>', description: 'A run directory.', value: { kind: 'text' }, required: true, multiple: true },
    { name: 'title', valueName: '<text>', description: 'Title of the page.', value: { kind: 'text' }, default: 'LICO report' },
    { name: 'out', valueName: '<file>', description: 'The HTML file to write.', value: { kind: 'text' }, required: true },
  ],
  examples: ['lico report --run runs/fm-baseline --run runs/fm-lico --out report.html'],
};

/** `lico quickstart`. */
export const QUICKSTART_SPEC: CommandSpec = {
  name: 'quickstart',
  summary: 'The main job on its embedded default: train baseline and LICO on Fashion-MNIST, evaluate both, write report.html and results.json.',
  details:
    'Looks for Fashion-MNIST in Debian\'s dataset-fashion-mnist package, then in the cache, then downloads it into the cache.',
  options: [
    { name: 'out', valueName: '<dir>', description: 'Output directory.', value: { kind: 'text' }, default: 'lico-runs/quickstart' },
    { name: 'backbone', valueName: '<name>', description: 'Image classifier architecture.', value: { kind: 'choice', choices: BACKBONE_NAMES }, default: 'wrn-16-1' },
    { name: 'labels', valueName: '<n>', description: 'Labelled training images per mode.', value: { kind: 'integer', min: 10, words: ['all'] }, default: '6000' },
    { name: 'epochs', valueName: '<n>', description: 'Epochs per mode.', value: { kind: 'integer', min: 1 }, default: '2' },
    { name: 'batch-size', valueName: '<n>', description: 'Images per step.', value: { kind: 'integer', min: 1 }, default: '64' },
    { name: 'eval-size', valueName: '<n>', description: 'Test images for accuracy.', value: { kind: 'integer', min: 1, words: ['all'] }, default: 'all' },
    { name: 'saliency-images', valueName: '<n>', description: 'Test images for insertion/deletion.', value: { kind: 'integer', min: 1 }, default: '64' },
    { name: 'step-size', valueName: '<n>', description: 'Pixels changed per insertion/deletion step.', value: { kind: 'integer', min: 1 }, default: '56' },
    { name: 'interpreters', valueName: '<list>', description: 'Saliency methods to measure.', value: { kind: 'list', choices: INTERPRETER_NAMES }, default: 'gradCam,gradCamPlusPlus' },
    { name: 'explain-images', valueName: '<n>', description: 'Test images shown with their heatmaps in the report.', value: { kind: 'integer', min: 1 }, default: '8' },
    seed,
    backend,
    threads,
    dataDir,
    { name: 'resume', description: 'Continue an interrupted quickstart.', value: { kind: 'flag' } },
    quiet,
  ],
  examples: ['npm run quickstart', 'lico quickstart --out lico-runs/quickstart --epochs 1'],
};

/** `lico study`. */
export const STUDY_SPEC: CommandSpec = {
  name: 'study',
  summary: 'Run named arms x seeds with paired seeds; write study.json (means, paired differences with 95 % intervals) and a report page.',
  details:
    'The study comes from --study FILE (JSON or YAML: name, dataset, seeds, baseline, common, arms [{name, options}], evaluation) or from flags. ' +
    'Arm options are lico train options by name (e.g. "mm-sign": "plus"). Within a seed every arm sees the same labelled subset, batch order and initialisation. ' +
    'Running the same command again continues: finished runs are kept, an interrupted run resumes from its checkpoint. ' +
    "--shard i/n runs a fixed, disjoint share of the runs; 'lico study merge DIR... --out DIR' combines the shards' outputs.",
  options: [
    { name: 'study', valueName: '<file>', description: 'The study definition (.json, .yaml or .yml).', value: { kind: 'text' } },
    { name: 'name', valueName: '<name>', description: 'Study name (without --study).', value: { kind: 'text' } },
    { name: 'dataset', valueName: '<name>', description: 'Dataset (without --study).', value: { kind: 'choice', choices: DATASET_NAMES, prefixes: ['folder:'] } },
    { name: 'seeds', valueName: '<list>', description: 'Comma-separated seeds (without --study), e.g. 0,1,2,3,4.', value: { kind: 'text' } },
    { name: 'arm', valueName: '<name[:k=v,...]>', description: "An arm (without --study): its name and lico train options, e.g. 'authors:mm-sign=plus,ot-gradient=none'.", value: { kind: 'text' }, multiple: true },
    { name: 'common', valueName: '<k=v,...>', description: 'Options of every arm (without --study), e.g. backbone=wrn-16-1,labels=1000,epochs=30.', value: { kind: 'text' } },
    { name: 'baseline', valueName: '<arm>', description: 'The arm differences are taken against (without --study; default: the first arm).', value: { kind: 'text' } },
    { name: 'interpreters', valueName: '<list>', description: 'Saliency methods (without --study).', value: { kind: 'list', choices: INTERPRETER_NAMES } },
    { name: 'saliency-images', valueName: '<n>', description: 'Test images for the saliency metrics (without --study; default 500).', value: { kind: 'integer', min: 1 } },
    { name: 'out', valueName: '<dir>', description: 'Output directory (runs/, study.json, report.html).', value: { kind: 'text' }, required: true },
    { name: 'shard', valueName: '<i/n>', description: 'Run only shard i of n (a fixed, disjoint share of the runs).', value: { kind: 'text' } },
    { name: 'dry-run', description: 'List the runs (and which are done) and exit.', value: { kind: 'flag' } },
    backend,
    threads,
    dataDir,
    quiet,
  ],
  examples: [
    'lico study --study docs/evidence/fashion-mnist-1000.json --out lico-runs/fm-study',
    'lico study --study study.yaml --out /shared/study/shard-1 --shard 1/2 --threads 1',
    'lico study merge /shared/study/shard-1 /shared/study/shard-2 --out /shared/study/merged',
    "lico study --dataset fashion-mnist --seeds 0,1,2 --common backbone=wrn-16-1,labels=1000,epochs=30 --arm baseline:mode=baseline --arm lico --out runs/s",
  ],
};

/** `lico study merge`. */
export const STUDY_MERGE_SPEC: CommandSpec = {
  name: 'study merge',
  summary: 'Combine the outputs of the shards of one study into one study.json and report.html.',
  details: 'Every directory must hold a study.json of the same study; together they must cover every shard once. Unfinished runs stay pending.',
  options: [{ name: 'out', valueName: '<dir>', description: 'Where to write study.json and report.html.', value: { kind: 'text' }, required: true }],
  positionals: { name: 'study directories', min: 1 },
  examples: ['lico study merge runs/shard-1 runs/shard-2 --out runs/merged'],
};

/** Every command, in the order the overview lists them. */
export const COMMAND_SPECS: readonly CommandSpec[] = [TRAIN_SPEC, EXPLAIN_SPEC, EVALUATE_SPEC, REPORT_SPEC, QUICKSTART_SPEC, STUDY_SPEC];
