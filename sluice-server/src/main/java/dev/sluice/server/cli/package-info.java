/**
 * The {@code sluice} command line: {@code run}, {@code demo} and {@code validate}. Start reading
 * at {@link dev.sluice.server.cli.SluiceCommand}: one nested class per subcommand.
 */
package dev.sluice.server.cli;
