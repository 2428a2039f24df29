// The trainer client, handed to the controls through context so components never construct or import it.
import { createContext, useContext } from 'react';
import type { TrainerPort } from '../state/trainer-port';

export const PortContext = createContext<TrainerPort | null>(null);

export function usePort(): TrainerPort | null {
  return useContext(PortContext);
}
