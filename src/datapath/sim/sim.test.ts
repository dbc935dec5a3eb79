import { datapathConformance } from '../conformance.js';
import { SimCluster } from './cluster.js';

datapathConformance(() => SimCluster.create());
