/**
 * The lico specification, version 1: the interfaces that plugin packages implement and that the
 * objective and the trainer consume. Every object carries `specificationVersion: 'v1'` so that a
 * future, incompatible revision can be told apart at run time.
 *
 * Shapes use the NHWC convention of TensorFlow.js. Names: `N` batch, `K` classes, `C` channels of
 * the last feature map, `H`×`W` its spatial size, `M` prompt variants, `D` text feature width.
 */
import type { Scalar, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from '@tensorflow/tfjs-core';

/** The version of this specification. */
export const SPECIFICATION_VERSION = 'v1' as const;

/** The version tag every v1 plugin carries. */
export type SpecificationVersion = typeof SPECIFICATION_VERSION;

/** A variable with the stable name it is saved and loaded under. */
export type NamedVariables = Readonly<Record<string, Variable>>;

// ------------------------------------------------------------------------------------------------
// Image classifier

/** Options of one forward pass. */
export interface ForwardOptions {
  /** Training mode: batch norm uses batch statistics and updates its moving averages; dropout is on. */
  readonly training: boolean;
  /**
   * Seed for this pass's random choices (dropout masks). The trainer derives one per step from
   * its saved RNG so that a resumed run draws exactly the same masks; without it a plugin falls
   * back to its own seeded stream.
   */
  readonly seed?: number;
}

/** What a classifier's forward pass returns. */
export interface ClassifierOutput {
  /** The last feature map (after the final activation, before pooling), `[N,H,W,C]`. */
  readonly featureMap: Tensor4D;
  /** The globally average-pooled feature map, `[N,C]`. */
  readonly embedding: Tensor2D;
  /** Class scores before softmax, `[N,K]`. */
  readonly logits: Tensor2D;
}

/**
 * A layer that adds a per-channel bias to a 2-D feature map, as
 * {@link ImageClassifier.forwardWithBiasTaps} reports it to its tap.
 */
export interface BiasLayer {
  /** The layer's stable name, the prefix of its variables (e.g. `'layer1.0.bn1'`). */
  readonly name: string;
  /** `'conv'`: a convolution with a bias; `'batch-norm'`: a batch norm (inference mode). */
  readonly kind: 'conv' | 'batch-norm';
  /**
   * The bias `[c]` the layer adds in inference mode: a convolution's bias; a batch norm's effective
   * bias `β − μ·γ/√(σ² + ε)` (running statistics), so that `out = (linear part of the input) + bias`.
   * Owned by the model and valid during the tap call only: clone (and `tf.keep`) what you keep.
   */
  readonly bias: Tensor1D;
}

/**
 * Called by {@link ImageClassifier.forwardWithBiasTaps} with each biased layer's output `[N,h,w,c]`
 * (after the bias, before any activation); returns the tensor the network continues with: the
 * output itself, or something equal to it whose gradient the caller records (e.g. an identity with
 * a custom gradient, or the output plus a zero probe).
 */
export type BiasTap = (layer: BiasLayer, output: Tensor4D) => Tensor4D;

/**
 * An image classifier LICO can train and interpreters can explain (implemented by
 * `@lico/backbones`, including wrapped `tf.LayersModel`s).
 */
export interface ImageClassifier {
  readonly specificationVersion: SpecificationVersion;
  /** A short description, e.g. `'wrn-28-2'`. */
  readonly name: string;
  /** Number of classes `K`. */
  readonly numClasses: number;
  /** Input shape `[H0,W0,channels]` the model expects (H0/W0 may be `null` if any size works). */
  readonly inputShape: readonly [number | null, number | null, number];
  /** JSON-serialisable configuration that recreates the architecture. */
  readonly config: Readonly<Record<string, unknown>>;
  /**
   * Names of the layers whose activations interpreters may use, input side first. The last one
   * is the layer that produces `featureMap`.
   */
  readonly layerNames: readonly string[];
  /** Runs the whole network on `images` `[N,H0,W0,channels]`. */
  forward(images: Tensor4D, options: ForwardOptions): ClassifierOutput;
  /** Runs the network up to and including `layer`; returns its activation `[N,h,w,c]`. */
  forwardTo(images: Tensor4D, layer: string, options: ForwardOptions): Tensor4D;
  /** Runs the rest of the network from `layer`'s activation (as returned by `forwardTo`). */
  forwardFrom(activation: Tensor4D, layer: string, options: ForwardOptions): ClassifierOutput;
  /**
   * Optional capability (a v1 addition; models that cannot offer it leave it out): the inference-mode
   * forward pass, equal to `forward(images, { training: false })`, with `tap` applied to the output of
   * every layer that adds a per-channel bias to a 2-D feature map (each convolution with a bias,
   * each batch norm), in the order the pass runs them. Interpreters that need the gradient at every
   * such layer (FullGrad in `@lico/cam`) use it; the head's linear layer is not tapped. A layer
   * whose output does not reach the logits in inference mode need not be tapped.
   */
  forwardWithBiasTaps?(images: Tensor4D, tap: BiasTap): ClassifierOutput;
  /** Variables the optimiser updates. */
  trainableVariables(): Variable[];
  /** State that is saved but not trained, e.g. batch-norm moving statistics. */
  nonTrainableVariables(): Variable[];
  /** Every variable (trainable and not) by a stable name, for saving and loading. */
  namedVariables(): NamedVariables;
  /** Number of trainable parameters (as PyTorch's `sum(p.numel() for p in model.parameters())`). */
  countParams(): number;
  /** Frees every variable the model owns. */
  dispose(): void;
}

// ------------------------------------------------------------------------------------------------
// Text side

/** A frozen text encoder (implemented by `@lico/text`: CLIP, word vectors). */
export interface TextEncoder {
  readonly specificationVersion: SpecificationVersion;
  /** A short description, e.g. `'clip-vit-b-32'`. */
  readonly name: string;
  /** Width of the token embeddings that learnable context vectors live in. */
  readonly embeddingDim: number;
  /** Width `D` of the encoded text features. */
  readonly outputDim: number;
  /** Encodes whole texts to features `[B,D]` (no gradient to the encoder's weights). */
  encodeTexts(texts: readonly string[]): Tensor2D;
  /** Frees the encoder's weights. */
  dispose(): void;
}

/** Text features a prompt learner produces for all classes. */
export interface PromptFeatures {
  /** One feature per class (variant 0), `[K,D]`, used by manifold matching. */
  readonly classFeatures: Tensor2D;
  /** All `M` variants of every class, `[M,K,D]`, mapped to text points for optimal transport. */
  readonly promptFeatures: Tensor3D;
}

/** Learnable prompts around a frozen text encoder (implemented by `@lico/text`). */
export interface PromptLearner {
  readonly specificationVersion: SpecificationVersion;
  /** Class names in label order. */
  readonly classNames: readonly string[];
  /** Number of prompt variants `M`. */
  readonly numVariants: number;
  /** Width `D` of the text features. */
  readonly outputDim: number;
  /** Encodes every class's prompts; differentiable with respect to `trainableVariables()`. */
  encode(options: ForwardOptions): PromptFeatures;
  /** The learnable context vectors (the encoder itself stays frozen). */
  trainableVariables(): Variable[];
  /** Every variable by a stable name, for checkpoints. */
  namedVariables(): NamedVariables;
  /** A JSON description of the choices made (variants mode, class-token position, …). */
  readonly config: Readonly<Record<string, unknown>>;
  dispose(): void;
}

/** The mapping net `h_ψ`: text features `[...,D]` to prompt points `[...,H*W]`. */
export interface MappingNet {
  readonly specificationVersion: SpecificationVersion;
  /** Input width `D`. */
  readonly inputDim: number;
  /** Output width, the number of spatial positions `H*W` of the feature map. */
  readonly outputDim: number;
  /** Maps `[M,K,D]` to `[M,K,H*W]` (dropout active when `training`). */
  apply(promptFeatures: Tensor3D, options: ForwardOptions): Tensor3D;
  trainableVariables(): Variable[];
  namedVariables(): NamedVariables;
  readonly config: Readonly<Record<string, unknown>>;
  dispose(): void;
}

// ------------------------------------------------------------------------------------------------
// Alignment losses

/**
 * Everything an alignment loss may use from one batch. The objective builds it; each loss takes
 * what it needs.
 */
export interface AlignmentInputs {
  /** Pooled image embeddings `[N,C]`. */
  readonly imageEmbeddings: Tensor2D;
  /** Text feature of each sample's class `[N,D]` (`classFeatures` gathered by label). */
  readonly textEmbeddings: Tensor2D;
  /** Image points: feature-map channels as vectors over space, `[N,C,H*W]`. */
  readonly imagePoints: Tensor3D;
  /** Text points: each sample's class prompts mapped by `h_ψ`, `[N,M,H*W]`. */
  readonly textPoints: Tensor3D;
  /** Labels `[N]` int32. */
  readonly labels: Tensor1D;
  /** The learnable temperature `τ` (a scalar variable or value). */
  readonly temperature: Scalar;
}

/** One of LICO's alignment losses (implemented by `@lico/losses`). */
export interface AlignmentLoss {
  readonly specificationVersion: SpecificationVersion;
  /** The loss's name, e.g. `'manifold-matching'` or `'optimal-transport'`. */
  readonly name: string;
  /** The loss value for the batch (differentiable). */
  compute(inputs: AlignmentInputs): Scalar;
  /** A JSON description of its options, recorded with results. */
  readonly config: Readonly<Record<string, unknown>>;
}

// ------------------------------------------------------------------------------------------------
// Interpreters

/** Options every interpreter accepts. */
export interface InterpreterOptions {
  /** Target class per image; default: the predicted class. Length must equal the batch. */
  readonly targets?: readonly number[];
  /** Layer to explain (one of `model.layerNames`); default: the last feature map. */
  readonly layer?: string;
}

/** A post-hoc saliency method (implemented by `@lico/cam`). */
export interface Interpreter<O extends InterpreterOptions = InterpreterOptions> {
  readonly specificationVersion: SpecificationVersion;
  /** The method's name, e.g. `'gradCam'`. */
  readonly name: string;
  /** Saliency `[N,H0,W0]` in [0,1] at input resolution. */
  explain(model: ImageClassifier, images: Tensor4D, options?: O): Promise<Tensor3D>;
}

// ------------------------------------------------------------------------------------------------
// Datasets

/** One batch; the consumer owns and disposes its tensors. */
export interface Batch {
  /** Images `[N,H,W,channels]` float32, normalised as the dataset says. */
  readonly images: Tensor4D;
  /** Labels `[N]` int32. */
  readonly labels: Tensor1D;
  /** Indices of the samples in the dataset. */
  readonly indices: Int32Array;
}

/** How to draw batches. */
export interface BatchOptions {
  readonly batchSize: number;
  /** Seed of the shuffle (and of augmentation, if any). */
  readonly seed: number;
  /** Epoch number; with the seed it fixes the order, so a resumed run sees the same batches. */
  readonly epoch?: number;
  /** Shuffle the order (default true). */
  readonly shuffle?: boolean;
  /** Drop a last incomplete batch (default false). */
  readonly dropLast?: boolean;
  /** Skip this many batches at the start of the epoch (resume mid-epoch). */
  readonly skipBatches?: number;
  /** Apply the dataset's training augmentation (default false). */
  readonly augment?: boolean;
}

/** A labelled image dataset (implemented by `@lico/datasets`). */
export interface Dataset {
  readonly specificationVersion: SpecificationVersion;
  /** A short description, e.g. `'fashion-mnist/train'`. */
  readonly name: string;
  /** Number of samples. */
  readonly size: number;
  /** Class names in label order. */
  readonly classNames: readonly string[];
  /** Shape of one image as batches deliver it, `[H,W,channels]`. */
  readonly imageShape: readonly [number, number, number];
  /** Number of batches an epoch has under `options`. */
  numBatches(options: Pick<BatchOptions, 'batchSize' | 'dropLast'>): number;
  /** Batches of one epoch, in a seeded order. */
  batches(options: BatchOptions): AsyncIterable<Batch>;
}
