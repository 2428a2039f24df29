// Every chart of the table, in a responsive grid, with the hyperparameter-change log the markers stand for.
import { CHARTS } from '../view/chart-specs';
import { ChangeLog } from './ChangeLog';
import { MetricChart } from './MetricChart';

export function ChartGrid() {
  return (
    <section className="panel" aria-labelledby="charts-title" data-testid="charts">
      <div className="panel-head">
        <h2 id="charts-title">Training curves</h2>
      </div>
      <p className="explain">
        One point per step. Dashed vertical lines mark hyperparameter changes (listed below); drag across a
        chart to zoom, double-click to reset. Hover for values.
      </p>
      <div className="chart-grid">
        {CHARTS.map((spec) => (
          <MetricChart key={spec.id} spec={spec} />
        ))}
      </div>
      <ChangeLog />
    </section>
  );
}
