import { imagePath } from '../../api';

export interface Props {
  repository: string;
  image: string;
}

export const manifestPath = (p: Props, digest: string) =>
  `${imagePath(p.repository, p.image)}/manifests/${digest}`;
