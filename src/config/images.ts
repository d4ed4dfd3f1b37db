/** Every image a release can pull, with the config field that names it: what `tollgate plans` lists. */
import type { ResolvedConfig } from './load.js';

/** One image a release uses. */
export interface ImageUse {
  image: string;
  /** The config field that names it (or whose default it is). */
  field: string;
}

/** The stages' images, their services', the build's runtime base and scanner, and the smoke probe; each once. */
export function releaseImages(config: Pick<ResolvedConfig, 'stages' | 'images' | 'raw'>): ImageUse[] {
  const { stages, images } = config;
  const uses: ImageUse[] = [];
  const add = (image: string, field: string): void => {
    if (!uses.some((use) => use.image === image)) uses.push({ image, field });
  };
  for (const stage of stages) {
    add(stage.image, config.raw.stages[stage.name]?.image ? `stages.${stage.name}.image` : 'defaults.image');
    for (const [index, service] of (stage.services ?? []).entries())
      add(service.image, `stages.${stage.name}.services[${index}].image`);
    if (stage.artifact?.runtimeImage) add(stage.artifact.runtimeImage, 'images.runtime');
  }
  add(images.scanner, 'images.scanner (used when TOLLGATE_SCAN_SEVERITY is set)');
  add(images.probe, 'images.probe');
  return uses;
}
