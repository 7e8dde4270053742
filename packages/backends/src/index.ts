export {
  BACKEND_NAMES,
  TENSORFLOW_PEERS,
  useBackend,
  resolveWasmThreads,
  type BackendName,
  type ChosenBackend,
  type BackendChoice,
  type ModuleImporter,
  type UseBackendOptions,
} from './use-backend';
export { registerWasmTrainingKernels, wasmTrainingKernelsRegistered, WASM_TRAINING_KERNELS, type WasmTrainingKernel } from './wasm/register-wasm-training-kernels';
export { startThreadedWasm, wasmThreadsStarted } from './wasm/wasm-threads';
export { wasmKernelThreads, selectWasmConvAlgorithm, wasmConvAlgorithm, WASM_CONV_ALGORITHMS, type WasmConvAlgorithm } from './wasm/conv-grad-kernels';
export { winogradFilterCacheStats, clearWinogradFilterCache } from './wasm/winograd-filter-cache';
export {
  WASM_KERNEL_OPTIONS,
  relaxedSimdSupported,
  enableRelaxedSimd,
  resolveWasmKernels,
  wasmKernelBuild,
  type WasmKernelBuild,
  type WasmKernelsOption,
} from './wasm/kernel-build';
export { conv2dFilterGrad } from './wasm/conv2d-backprop-filter';
export { conv2dInputGrad } from './wasm/conv2d-backprop-input';
