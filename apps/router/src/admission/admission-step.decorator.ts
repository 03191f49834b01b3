import { DiscoveryService } from '@nestjs/core';

/**
 * Marks a provider as an admission step. The pipeline discovers every provider carrying it, so a feature
 * adds a check by providing a class in its own module — no central list to edit.
 */
export const AdmissionStepProvider = DiscoveryService.createDecorator<void>();
