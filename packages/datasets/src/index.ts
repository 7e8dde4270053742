export {
  type SampleSource,
  type PipelineStats,
  type BatchArrays,
  type LicoDataset,
  type InMemoryDataset,
  type CreateDatasetOptions,
  type InMemoryDatasetOptions,
  createDataset,
  createInMemoryDataset,
} from './dataset';
export { type Augmentation, type AugmentParams, checkAugmentation, drawAugmentParams, writeAugmentedImage } from './augment';
export {
  type Normalization,
  FASHION_MNIST_NORMALIZATION,
  MNIST_NORMALIZATION,
  CIFAR10_NORMALIZATION,
  CIFAR100_NORMALIZATION,
  SVHN_NORMALIZATION,
  IMAGENET_NORMALIZATION,
  normalizationTable,
  normalize,
  denormalize,
} from './normalization';
export { mixSeeds, derivedRng } from './seeds';
export { type IdxArray, parseIdx, readIdx, encodeIdx } from './idx';
export { type DataFileSpec, type LocateOptions, locateDataFiles } from './locate';
export {
  type IdxDatasetOptions,
  FASHION_MNIST_CLASSES,
  MNIST_CLASSES,
  DEBIAN_FASHION_MNIST_DIR,
  fashionMnist,
  mnist,
  readIdxPair,
} from './fashion-mnist';
export { subset } from './subset';
export { type LimitedLabelsOptions, type LimitedLabelsSplit, limitedLabels } from './limited-labels';
export {
  type CifarOptions,
  type Cifar100Options,
  type Cifar100Dataset,
  CIFAR10_CLASSES,
  CIFAR100_FINE_CLASSES,
  CIFAR100_COARSE_CLASSES,
  cifar10,
  cifar100,
  parseCifarBinary,
} from './cifar';
export { extractTar } from './tar';
export { type MatArray, parseMat5 } from './mat5';
export { type SvhnOptions, SVHN_CLASSES, svhn, svhnFromMat } from './svhn';
export { type DecodedImage, decodeImage, readImage, toChannels, MAX_IMAGE_PIXELS } from './decode-image';
export { gunzipCapped, MAX_INFLATED_BYTES } from './read-file';
export { type ImageFolderOptions, IMAGE_EXTENSIONS, imageFolder } from './image-folder';
export { type Box, type LocalisationDataset, maskBox, withLocalisation } from './localisation';
export { type LocalisationBenchmarkOptions, type LocalisationSample, createLocalisationBenchmark } from './localisation-benchmark';
export { type LocalisationFolderOptions, localisationFolder } from './localisation-folder';
