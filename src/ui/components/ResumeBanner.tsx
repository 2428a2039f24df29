// After a reload: the last stored run can continue from its checkpoint (charts and change log replayed).
import { useSession, useUi } from '../state/stores';

export function ResumeBanner() {
  const offer = useUi((s) => s.resumeOffer);
  // Once the fresh run has trained, the offer is stale.
  const trained = useSession((s) => s.step > 0);
  if (!offer || trained) return null;
  return (
    <div className="message note resume" data-testid="resume-banner" role="status">
      <div className="message-body">
        <strong>Resume where you left off?</strong>
        <p>
          {offer.label} has a checkpoint at step {offer.step} stored in this browser.
        </p>
      </div>
      <div className="pending-actions">
        <button
          type="button"
          className="primary"
          data-testid="btn-resume"
          onClick={() => void offer.resume()}
        >
          Resume from step {offer.step}
        </button>
        <button type="button" onClick={() => useUi.setState({ resumeOffer: null })}>
          Start fresh
        </button>
      </div>
    </div>
  );
}
