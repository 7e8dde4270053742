import { describe, expect, it } from 'vitest';
import { UnknownNameError } from '@lico/core';
import { COMMAND_SPECS, EVALUATE_SPEC, TRAIN_SPEC } from './command-specs';
import { formatCommandHelp, parseCommandArgs, UsageError } from './options';

const base = ['--dataset', 'fashion-mnist', '--out', 'runs/x'];

describe('parseCommandArgs', () => {
  it('parses and types every value and applies defaults', () => {
    const o = parseCommandArgs(TRAIN_SPEC, [...base, '--backbone', 'wrn-16-1', '--labels', '4000', '--epochs', '3', '--seed', '7', '--lr', '0.1', '--resume']);
    expect(o.dataset).toBe('fashion-mnist');
    expect(o.backbone).toBe('wrn-16-1');
    expect(o.labels).toBe(4000);
    expect(o.epochs).toBe(3);
    expect(o.seed).toBe(7);
    expect(o.lr).toBe(0.1);
    expect(o.resume).toBe(true);
    expect(o.mode).toBe('lico');
    expect(o.backend).toBe('auto');
    expect(o.text).toBe('word-vectors');
    expect(o['eval-size']).toBe('all');
    expect(o.quiet).toBe(false);
  });

  it('accepts --name=value, words such as all, and prefixed values', () => {
    const o = parseCommandArgs(TRAIN_SPEC, ['--dataset=folder:/data/my imgs', '--out=o', '--labels=all', '--text', 'clip:/models/clip']);
    expect(o.dataset).toBe('folder:/data/my imgs');
    expect(o.labels).toBe('all');
    expect(o.text).toBe('clip:/models/clip');
  });

  it('rejects an unknown flag with an error that lists the valid flags', () => {
    let error: unknown;
    try {
      parseCommandArgs(TRAIN_SPEC, [...base, '--epoch', '3']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownNameError);
    const e = error as UnknownNameError;
    expect(e.requested).toBe('--epoch');
    expect(e.valid).toContain('--epochs');
    expect(e.valid).toContain('--resume');
    expect(e.message).toContain("'--epochs'");
  });

  it('rejects an unknown value with an error that lists the valid choices', () => {
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--backbone', 'vgg'])).toThrow(
      /Unknown --backbone value 'vgg'\. Valid .*'wrn-28-2', 'wrn-28-8', 'wrn-16-1'/,
    );
    expect(() => parseCommandArgs(TRAIN_SPEC, ['--dataset', 'emnist', '--out', 'o'])).toThrow(/'folder:PATH'/);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--backend', 'webgl'])).toThrow(/'auto', 'wasm', 'cpu', 'tensorflow'/);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--mode', 'LICO'])).toThrow(UnknownNameError);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--labels', 'some'])).toThrow(/an integer >= 1', 'all'/);
    expect(() => parseCommandArgs(EVALUATE_SPEC, ['--model', 'm', '--dataset', 'cifar10', '--interpreters', 'gradCam,lime'])).toThrow(
      /Unknown --interpreters value 'lime'.*'gradCam', 'gradCamPlusPlus', 'xGradCam', 'layerCam', 'scoreCam', 'rise', 'eigenCam'/,
    );
  });

  it('rejects bad numbers, missing values, positionals, repeats and missing required options', () => {
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--epochs', '0'])).toThrow(UsageError);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--lr', '-1'])).toThrow(/--lr -1: must be a number > 0/);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--lr', 'fast'])).toThrow(UsageError);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--epochs'])).toThrow(/--epochs needs a value/);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, 'extra'])).toThrow(/Unexpected argument 'extra'/);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--seed', '1', '--seed', '2'])).toThrow(/more than once/);
    expect(() => parseCommandArgs(TRAIN_SPEC, ['--out', 'o'])).toThrow(/needs --dataset <name>/);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '--resume=yes'])).toThrow(/takes no value/);
    expect(() => parseCommandArgs(TRAIN_SPEC, ['--dataset', 'folder:', '--out', 'o'])).toThrow(/give a path after 'folder:'/);
    expect(() => parseCommandArgs(TRAIN_SPEC, [...base, '-x'])).toThrow(UnknownNameError);
  });

  it('lets --help (and -h) through without the required options', () => {
    expect(parseCommandArgs(TRAIN_SPEC, ['--help']).help).toBe(true);
    expect(parseCommandArgs(TRAIN_SPEC, ['-h']).help).toBe(true);
  });

  it('deduplicates list values', () => {
    const o = parseCommandArgs(EVALUATE_SPEC, ['--model', 'm', '--dataset', 'localisation:/x', '--interpreters', 'rise,gradCam,rise']);
    expect(o.interpreters).toEqual(['rise', 'gradCam']);
    expect(o.dataset).toBe('localisation:/x');
  });

  it('accepts the input-space interpreters and HiResCAM variants by their registry names', () => {
    const names = 'gradient,integratedGradients,smoothGrad,occlusion,hiResCam,gradCamElementWise';
    const o = parseCommandArgs(EVALUATE_SPEC, ['--model', 'm', '--dataset', 'cifar10', '--interpreters', names]);
    expect(o.interpreters).toEqual(names.split(','));
    expect(() => parseCommandArgs(EVALUATE_SPEC, ['--model', 'm', '--dataset', 'cifar10', '--interpreters', 'integratedgradients'])).toThrow(/'integratedGradients'/);
  });
});

describe('formatCommandHelp', () => {
  it('lists every option of every command with its choices and defaults', () => {
    for (const spec of COMMAND_SPECS) {
      const text = formatCommandHelp(spec);
      expect(text.startsWith(`Usage: lico ${spec.name} `)).toBe(true);
      for (const o of spec.options) expect(text).toContain(`--${o.name}`);
      expect(text).toContain('--help');
    }
    const train = formatCommandHelp(TRAIN_SPEC);
    expect(train).toContain('one of: fashion-mnist, mnist, cifar10, cifar100, svhn,');
    expect(train).toContain('folder:PATH');
    expect(train).toContain('default: auto');
    expect(train).toMatch(/--dataset <name>\s/);
  });
});

describe('the option tables agree with the packages', () => {
  it('every backbone and interpreter name the CLI offers exists', async () => {
    const { availableBackbones } = await import('../pipeline/components');
    const cam = await import('@lico/cam');
    const { BACKBONE_NAMES, INTERPRETER_NAMES } = await import('./command-specs');
    expect(availableBackbones()).toEqual(expect.arrayContaining([...BACKBONE_NAMES]));
    expect([...INTERPRETER_NAMES].sort()).toEqual([...cam.INTERPRETER_NAMES].sort());
  });
});
