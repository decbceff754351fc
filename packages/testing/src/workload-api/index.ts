export {
  type FakeWorkloadApi,
  type FakeWorkloadApiOptions,
  type InjectedFailure,
  startFakeWorkloadApi,
  type WorkloadApiMethod,
} from './fake-server.js';
