import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { pageStart } from './page-start.ts';
import { Trainer } from './runs/trainer.ts';
import { TrainerContext } from './runs/trainer-context.ts';
import { useStore } from './store.ts';
import './app.css';

// Made once for the page: the worker and its runs outlive any render.
const trainer = new Trainer(useStore);
const start = pageStart(useStore);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <TrainerContext value={trainer}>
      <App start={start} />
    </TrainerContext>
  </StrictMode>,
);
