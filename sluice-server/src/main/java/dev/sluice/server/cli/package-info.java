/** The {@code sluice} command line: {@code run} and {@code validate}. */
package dev.sluice.server.cli;
