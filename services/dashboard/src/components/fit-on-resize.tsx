import { useReactFlow, useStore, type FitViewOptions } from '@xyflow/react';
import { useEffect } from 'react';

/**
 * Fits the view again when the graph's box changes size (a drawer opens beside it, the window
 * narrows) or its nodes change: React Flow's `fitView` prop fits only once.
 */
export function FitOnResize({ options, nodesKey }: { options?: FitViewOptions; nodesKey: string }) {
  const { fitView } = useReactFlow();
  const size = useStore((s) => `${Math.round(s.width)}x${Math.round(s.height)}`);
  useEffect(() => {
    const id = requestAnimationFrame(() => void fitView(options));
    return () => cancelAnimationFrame(id);
    // options is a fresh object each render; the size and the nodes are what matter.
  }, [size, nodesKey, fitView]);
  return null;
}
