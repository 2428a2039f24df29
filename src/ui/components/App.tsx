// The playground's page: toolbar, knobs, messages, the credit views, the charts, the chat, runs (with the
// downloads) and performance.
import type { TrainerPort } from '../state/trainer-port';
import { ChartGrid } from './ChartGrid';
import { ChatPanel } from './ChatPanel';
import { CreditSection } from './CreditSection';
import { KnobPanel } from './KnobPanel';
import { MessageArea } from './MessageArea';
import { PerfPanel } from './PerfPanel';
import { PortContext } from './port-context';
import { ResumeBanner } from './ResumeBanner';
import { RunsPanel } from './RunsPanel';
import { Toolbar } from './Toolbar';
import '../styles/base.css';
import '../styles/layout.css';
import '../styles/knobs.css';
import '../styles/messages.css';
import '../styles/credit.css';
import '../styles/charts.css';
import '../styles/panels.css';
import '../styles/chat.css';

export function App({ port }: { port: TrainerPort | null }) {
  return (
    <PortContext.Provider value={port}>
      <div className="app">
        <Toolbar />
        <div className="body">
          <KnobPanel />
          <main className="views">
            <ResumeBanner />
            <MessageArea />
            <CreditSection />
            <ChartGrid />
            <ChatPanel />
            <div className="row-2">
              <RunsPanel />
              <PerfPanel />
            </div>
          </main>
        </div>
      </div>
    </PortContext.Provider>
  );
}
