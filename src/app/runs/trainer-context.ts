// The page's one Trainer (made in main.tsx), for the panels that start, stop and ask the worker.
import { createContext, useContext } from 'react';
import type { Trainer } from './trainer.ts';

export const TrainerContext = createContext<Trainer | undefined>(undefined);

export function useTrainer(): Trainer {
  const trainer = useContext(TrainerContext);
  if (!trainer) throw new Error('the panels need a Trainer: main.tsx gives one through TrainerContext');
  return trainer;
}
