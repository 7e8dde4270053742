export {
  BACKEND_NAMES,
  TENSORFLOW_PEERS,
  useBackend,
  type BackendName,
  type ChosenBackend,
  type BackendChoice,
  type ModuleImporter,
  type UseBackendOptions,
} from './use-backend';
