import { api, type DeploymentJson } from './api.js';
import { formatTime } from './format.js';
import { LatencyTable } from './latency-table.js';
import { Notice } from './notice.js';
import { useLoader } from './use-loader.js';

const STATE_LABELS: Readonly<Record<DeploymentJson['state'], string>> = {
  healthy: 'healthy',
  cooling: 'cooling down',
  probing: 'being retried',
};

/** Each provider's deployments as this gateway process sees them, and the last hour's latency. */
export function ProvidersPage() {
  const loaded = useLoader(async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 3_600_000);
    const [providers, stats] = await Promise.all([
      api.providers(),
      api.stats(from.toISOString(), to.toISOString()),
    ]);
    return { providers: providers.data, stats };
  }, []);

  return (
    <section aria-labelledby="providers-title">
      <div class="page-head">
        <h1 id="providers-title">Providers</h1>
        <button type="button" class="button" onClick={loaded.reload}>
          Refresh
        </button>
      </div>
      {loaded.error !== undefined ? (
        <Notice kind="error" title="Providers could not be loaded." onRetry={loaded.reload}>
          {loaded.error.message}
        </Notice>
      ) : loaded.data === undefined ? (
        <Notice kind="loading" title="Loading providers…" />
      ) : (
        <>
          {loaded.data.providers.map((provider) => (
            <div class="card" key={provider.id}>
              <h2>{provider.id}</h2>
              {provider.deployments.length === 0 ? (
                <p class="muted">
                  No routed deployment: this provider serves its pinned prefix (/{provider.id}/v1)
                  and the default routes. Configure models in the config file to route and balance
                  across deployments.
                </p>
              ) : (
                <DeploymentTable deployments={provider.deployments} />
              )}
            </div>
          ))}
          <div class="card">
            <h2>Last hour, by provider</h2>
            <LatencyTable
              groups={loaded.data.stats.latency.by_provider}
              label="Provider"
              none="refused before routing"
            />
            <h2>Last hour, by deployment</h2>
            <LatencyTable
              groups={loaded.data.stats.latency.by_deployment}
              label="Deployment"
              none="refused before routing"
            />
            <p class="muted">
              Deployment state is this process's; with several workers each keeps its own.
            </p>
          </div>
        </>
      )}
    </section>
  );
}

function DeploymentTable({ deployments }: { deployments: readonly DeploymentJson[] }) {
  return (
    <div class="table-scroll">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Deployment</th>
            <th scope="col">Serves</th>
            <th scope="col">State</th>
            <th scope="col" class="number">
              In flight
            </th>
            <th scope="col" class="number">
              Failures in a row
            </th>
            <th scope="col" class="number">
              Weight
            </th>
          </tr>
        </thead>
        <tbody>
          {deployments.map((deployment) => (
            <tr key={deployment.id}>
              <td class="mono">{deployment.id}</td>
              <td>{deployment.public_models.join(', ')}</td>
              <td>
                <span class={`badge badge-${deployment.state}`}>
                  {STATE_LABELS[deployment.state]}
                </span>
                {deployment.at_capacity ? (
                  <span class="badge badge-expired">at capacity</span>
                ) : null}
                {deployment.cooling_until === null ? null : (
                  <span class="muted small">
                    <br />
                    until {formatTime(deployment.cooling_until)}
                  </span>
                )}
              </td>
              <td class="number">
                {deployment.in_flight}
                {deployment.max_concurrent === null ? '' : ` / ${deployment.max_concurrent}`}
              </td>
              <td class="number">{deployment.consecutive_failures}</td>
              <td class="number">{deployment.weight}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
