import { UnknownNameError } from '@lico/core';
import { describe, expect, it } from 'vitest';
import { INTERPRETER_NAMES } from '../args/command-specs';
import { interpreterByName } from './saliency';

describe('interpreterByName', () => {
  it('resolves every name --interpreters accepts, the new input-space methods, Eigen-Grad-CAM and Ablation-CAM included', () => {
    for (const name of INTERPRETER_NAMES) expect(interpreterByName(name, 3).name).toBe(name);
    expect(INTERPRETER_NAMES).toEqual(expect.arrayContaining(['gradient', 'integratedGradients', 'smoothGrad', 'occlusion', 'hiResCam', 'gradCamElementWise', 'eigenGradCam', 'ablationCam']));
  });

  it('rejects an unknown name with the valid ones', () => {
    expect(() => interpreterByName('lime', 0)).toThrow(UnknownNameError);
    expect(() => interpreterByName('lime', 0)).toThrow(/'smoothGrad'/);
  });
});
