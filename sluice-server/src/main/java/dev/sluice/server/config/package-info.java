/**
 * {@code sluice.yaml}: the configuration model ({@link dev.sluice.server.config.SluiceConfig},
 * {@link dev.sluice.server.config.RevisionConfig}) and its loader, which refuses a bad file with
 * the file, the field and the reason ({@link dev.sluice.server.config.ConfigException}).
 *
 * <p>Start reading at {@link dev.sluice.server.config.ConfigLoader} (text to tree); then
 * {@link dev.sluice.server.config.ConfigReader} (every field's checks; the cluster, kubernetes
 * and queueing sections have readers of their own on {@code FieldReader}'s helpers) and
 * {@link dev.sluice.server.config.AnnotationReader} (a Kubernetes Service's annotations,
 * checked by the same code).
 */
package dev.sluice.server.config;
