package io.gpuwarden.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

class ExitCodesTest {
  @Test
  void theTableHasDistinctCodesZeroToSixKeepingTheOldNumbers() {
    assertThat(ExitCodes.table().keySet()).containsExactly(0, 1, 2, 3, 4, 5, 6);
    assertThat(ExitCodes.OK).isZero();
    assertThat(ExitCodes.CALL_FAILED).isEqualTo(1);
    assertThat(ExitCodes.USAGE).isEqualTo(2);
    assertThat(ExitCodes.NOT_FOUND).isEqualTo(3);
    assertThat(ExitCodes.REFUSED).isEqualTo(4);
    assertThat(ExitCodes.AUTH).isEqualTo(5);
    assertThat(ExitCodes.UNREACHABLE).isEqualTo(6);
  }

  @Test
  void grpcStatusesMapOntoTheTable() {
    assertThat(ExitCodes.forStatus(Status.INVALID_ARGUMENT, true)).isEqualTo(ExitCodes.USAGE);
    assertThat(ExitCodes.forStatus(Status.NOT_FOUND, true)).isEqualTo(ExitCodes.NOT_FOUND);
    assertThat(ExitCodes.forStatus(Status.FAILED_PRECONDITION, true)).isEqualTo(ExitCodes.REFUSED);
    assertThat(ExitCodes.forStatus(Status.UNAUTHENTICATED, true)).isEqualTo(ExitCodes.AUTH);
    assertThat(ExitCodes.forStatus(Status.PERMISSION_DENIED, true)).isEqualTo(ExitCodes.AUTH);
    assertThat(ExitCodes.forStatus(Status.DEADLINE_EXCEEDED, false)).isEqualTo(ExitCodes.UNREACHABLE);
    assertThat(ExitCodes.forStatus(Status.DEADLINE_EXCEEDED, true)).isEqualTo(ExitCodes.UNREACHABLE);
    assertThat(ExitCodes.forStatus(Status.INTERNAL, true)).isEqualTo(ExitCodes.CALL_FAILED);
    assertThat(ExitCodes.forStatus(Status.UNIMPLEMENTED, true)).isEqualTo(ExitCodes.CALL_FAILED);
  }

  @Test
  void unavailableIsUnreachableOnlyWhenTheCollectorDidNotAnswer() {
    assertThat(ExitCodes.forStatus(Status.UNAVAILABLE, false)).isEqualTo(ExitCodes.UNREACHABLE);
    assertThat(ExitCodes.forStatus(Status.UNAVAILABLE.withDescription("gate store write failed"), true))
        .isEqualTo(ExitCodes.CALL_FAILED);
  }

  @Test
  void aCommandsListTakesTheTablesMeaningsUnlessItSaysItsOwnInNumericOrder() {
    ExitCodeList list = ExitCodeList.of("held").with(ExitCodes.REFUSED).with(ExitCodes.NOT_FOUND, "no such node");

    assertThat(list.codes()).containsExactly(0, 1, 2, 3, 4, 6);
    assertThat(list.help()).containsEntry("0", "held").containsEntry("3", "no such node")
        .containsEntry("4", ExitCodes.meaning(ExitCodes.REFUSED)).containsKeys("1", "2", "6").doesNotContainKey("5");
    assertThat(list.help().keySet()).containsExactly("0", "1", "2", "3", "4", "6");
  }

  @Test
  void aCodeOutsideTheTableOrAMeaningPicocliCannotPrintIsRefused() {
    assertThatThrownBy(() -> ExitCodeList.none().with(7)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("7");
    assertThatThrownBy(() -> ExitCodeList.none().with(ExitCodes.OK, "5% done")).isInstanceOf(IllegalArgumentException.class);
  }
}
